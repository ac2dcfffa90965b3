"""Loopback fakes of the outside world (Telegram Bot API, an OpenAI-compatible endpoint)."""
