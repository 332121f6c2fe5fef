"""OAuth for third-party clients: registered apps, and long-lived, revocable access tokens of Chirp's own."""
