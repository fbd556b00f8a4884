"""Recommendations: "For you" (see docs/for-you.md)."""
