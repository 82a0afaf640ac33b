"""Answering questions from retrieved passages, with citations."""
