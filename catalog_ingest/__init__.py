"""The bottom layer: settings, crawling catalogs into table records, the record store and the search index."""
