"""Dataset files and loaders: IMDB, MNIST, text corpora, where files live."""
