#!/usr/bin/env bash
# Regenerate the seed systems' topology pictures in docs/topology/ (needs a build and Graphviz's `dot`).
set -euo pipefail
cd "$(dirname "$0")/.."
for system in ecommerce tutorgo customers courses; do
  file="fixtures/topology/${system}.json"
  ./bin/run.js topology "$system" --file "$file" --format dot --output "docs/topology/${system}.dot"
  ./bin/run.js topology "$system" --file "$file" --format mermaid --output "docs/topology/${system}.mmd"
  dot -Tsvg "docs/topology/${system}.dot" -o "docs/topology/${system}.svg"
done
