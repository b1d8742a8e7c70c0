"""The API's edge: keys and roles, request shapes, errors, limits and rate limits, the OpenAPI description."""
