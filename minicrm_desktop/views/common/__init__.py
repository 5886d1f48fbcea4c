"""What every feature's views share: the keyset-paged table model, small widgets,
formatting, file dialogs, icons and one-AI-request-at-a-time. Nothing here imports a feature.

Every module here may be imported by any feature (tests/test_layers.py checks that
nothing here imports a feature)."""

