"""Plumbing for tests, benchmarks and screenshots (a local app server, headless Chromium).
Not part of the app: nothing in the app imports it."""
