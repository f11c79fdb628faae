"""The test environment of tests/run.py's test modules (tests/lib/README.md):
the harness, the lab environment, the checks run in the guests and the
parsers of test output. Test modules import this and hsniclab only."""
