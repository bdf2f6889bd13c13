//! YAML loading with line and column for every node, scalars resolved as PyYAML resolves them.
