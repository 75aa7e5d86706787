"""Shared pytest options: `--update-fixtures` regenerates fixtures/*/*.expected after a deliberate change."""


def pytest_addoption(parser):
    parser.addoption("--update-fixtures", action="store_true", help="rewrite the expected findings of fixtures/")
