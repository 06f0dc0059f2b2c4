"""ganaudit.data.roles: the inlier group, its words, and the groups outlier detection scores."""

from ganaudit.data.roles import GENERATED_GROUPS, OWN_CLASS_GROUPS, inlier_group, inlier_label, scored_groups


def test_inlier_group_prefers_test_then_the_models_own_samples():
    assert inlier_group(["train", "test", "generated", "photos"]) == "test"
    assert inlier_group(["generated", "photos"]) == "generated"
    assert inlier_group(["photos"]) is None
    assert inlier_label("generated") == "the GAN's own samples" and inlier_label(None) == "no inlier group"


def test_scored_groups_never_the_training_or_calibration_images():
    with_test = ["train", "test", "generated", "generated_calibration", "photos"]
    assert scored_groups(with_test) == ["test", "photos"]
    assert scored_groups(["generated", "generated_calibration", "photos"]) == ["generated", "photos"]


def test_own_class_groups_are_the_training_images_and_the_samples():
    assert OWN_CLASS_GROUPS == ("train", *GENERATED_GROUPS)
