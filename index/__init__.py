"""Chunking, embedding, the FAISS and BM25 indexes, hybrid search and index builds."""
