"""The validation split of other movies that IMDB settings are chosen on (benchmarks/)."""

import numpy as np

from benchmarks.imdb_other_movies import RARE_FROM, most_shared, other_movies_split

R = RARE_FROM + 1  # the first rare rank


def reviews_and_labels(n: int = 40) -> tuple[list[list[int]], np.ndarray]:
    """n reviews of common words, the first half positive, the second negative."""
    return [[1, 2, 3] for _ in range(n)], np.array([1] * (n // 2) + [0] * (n // 2))


def test_whole_chunks_of_each_class_are_held_out_with_their_neighbours_left_out():
    reviews, labels = reviews_and_labels()
    train, val = other_movies_split(reviews, labels, offset=1, chunk=4, every=5, guard=2)
    # chunk 1 of each class: rows 4-7 of the positives (0-19), 24-27 of the negatives (20-39)
    assert sorted(val.tolist()) == [4, 5, 6, 7, 24, 25, 26, 27]
    left_out = set(range(40)) - set(train.tolist()) - set(val.tolist())
    assert left_out == {2, 3, 8, 9, 22, 23, 28, 29}  # the guard on either side
    assert len(train) + len(val) + len(left_out) == 40


def test_a_shuffled_split_holds_the_same_reviews():
    reviews, labels = reviews_and_labels()
    kw = {"offset": 2, "chunk": 4, "every": 5, "guard": 2}
    train, val = other_movies_split(reviews, labels, **kw)
    mixed_train, mixed_val = other_movies_split(reviews, labels, shuffle=0, **kw)
    assert sorted(mixed_train) == sorted(train) and sorted(mixed_val) == sorted(val)
    assert mixed_train.tolist() != train.tolist()


def test_a_review_sharing_rare_words_with_a_held_out_one_leaves_training():
    reviews, labels = reviews_and_labels()
    reviews[5] = [1, R, R + 1, R + 2, R + 3]  # held out (positive chunk 1)
    reviews[35] = [2, R, R + 1, R + 2, R + 3, 7]  # the same movie's names, a negative review
    reviews[15] = [R, R + 1, R + 2, 4]  # three of them: kept
    train, val = other_movies_split(reviews, labels, offset=1, chunk=4, every=5, guard=2, link=4)
    assert 5 in val
    assert 35 not in train and 35 not in val
    assert 15 in train


def test_most_shared_counts_rare_words_in_common_with_the_closest_review():
    held = [{R, R + 1, R + 2}, {R + 9}, set()]
    pool = [{R, R + 1}, {R, R + 1, R + 2, R + 5}, {R + 3}]
    assert most_shared(held, pool).tolist() == [3, 0, 0]
