"""Campaigns: drafts, launch (audience frozen), delivery through the vendor, history."""
