"""AI assistance: sentences to segment rules, message variants and campaign summaries.

Two engines answer: an OpenAI-compatible model when one is configured (`openai_client`),
and a deterministic offline engine that needs no network (`offline_parser`, the offline
halves of `variants` and `summary`). `assistant` picks one and falls back where it can.
Nothing here imports QtWidgets; no customer's personal data is ever sent to a model.
"""
