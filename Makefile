# Shortcuts for the two commands in the README.
.PHONY: demo test sanity
demo:
	./scripts/demo
test:
	./scripts/test
sanity:
	./scripts/sanity
