"""Synthetic pixmo-docs: topic -> LLM data -> LLM renderer code -> sandboxed render -> LLM QA.

Every language model here is text-only; the image is made by running code and never shown to
any model. Questions are written from the code alone.
"""
