"""Chirp's own REST API: one Powertools Router per resource, their schemas, and the error mapping.

Route modules do not use `from __future__ import annotations`: Powertools reads the parameter annotations
at runtime to tell a body from a query parameter.
"""
