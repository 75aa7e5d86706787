#!/usr/bin/env bash
# The action's install step (action.yml): nnlint from PyPI at NNLINT_VERSION, or this action's own copy.
set -euo pipefail
extra=""
if [ "${NNLINT_TORCH:-false}" = "true" ]; then extra="[torch]"; fi
if [ -n "${NNLINT_VERSION:-}" ]; then
  spec="nnlint${extra}==${NNLINT_VERSION}"
else
  spec="${GITHUB_ACTION_PATH}${extra}"
fi
# shellcheck disable=SC2086  # pip-args is a list of words on purpose
"${NNLINT_PYTHON:-python}" -m pip install --disable-pip-version-check ${NNLINT_PIP_ARGS:-} "$spec"
