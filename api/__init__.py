"""The HTTP API (``policy-assistant api``): the assistant for other systems, over FastAPI/uvicorn.
``create_app(settings)`` builds it; ``api.keys`` holds the hashed API keys."""
from .app import create_app

__all__ = ["create_app"]
