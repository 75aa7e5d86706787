"""The static pass: libcst only; never imports the checked code or torch."""
