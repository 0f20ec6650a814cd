"""Fakes shared by the tests: a scripted OpenAI-compatible LLM server, a live uvicorn server, fake judges."""
