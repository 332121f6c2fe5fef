"""The one Logger, Tracer and Metrics of the service; everybody imports these."""

from aws_lambda_powertools import Logger, Metrics, Tracer

SERVICE = "chirp"

logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
metrics = Metrics(service=SERVICE, namespace="Chirp")
