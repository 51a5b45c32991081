/* Header-only module: the shared ABI, importable by Swift without libbpf. */
