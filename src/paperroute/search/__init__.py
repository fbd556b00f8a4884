"""Search: query language, keyword search; semantic and hybrid search come later."""
