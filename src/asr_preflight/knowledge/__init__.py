"""Facts from the ASR docs, kept as data (``data/*.toml``), each with its source and date."""
