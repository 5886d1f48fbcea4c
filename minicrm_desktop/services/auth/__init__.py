"""Signing in: OAuth 2.0 for installed apps (loopback + PKCE), ID-token checks, stored sessions."""
