"""`python -m jet.cli`, as the servers are started by tests, benchmarks and the demo."""

from jet.cli import main

main()
