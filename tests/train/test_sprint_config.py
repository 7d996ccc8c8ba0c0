from pathlib import Path

import pytest

from deblurgan.schema import ConfigError
from deblurgan.train.sprint_config import SprintConfig, load_sprint_config

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


@pytest.mark.parametrize("name", ["sprint.yaml", "sprint-paper.yaml", "sprint-cpu-tiny.yaml"])
def test_the_shipped_sprint_configs_load(name):
    config = load_sprint_config(CONFIGS / name)
    assert isinstance(config, SprintConfig)


def test_the_paper_recipe_is_the_papers_loss_and_generator():
    config = load_sprint_config(CONFIGS / "sprint-paper.yaml")
    m, loss, o = config.model, config.loss, config.optim
    assert (m.architecture, m.ngf, m.n_blocks, m.dropout) == ("resnet", 64, 9, 0.5)
    assert (loss.gan, loss.content, loss.content_weight, loss.adversarial_weight) == (
        "wgan-gp", "perceptual", 100.0, 1.0,
    )  # fmt: skip
    assert (loss.gp_weight, loss.critic_steps, o.lr, o.betas) == (10.0, 5, 1e-4, (0.5, 0.999))
    # The ResNet generator takes no encoder_blocks: only its own arguments are passed.
    assert m.generator_arguments() == {"ngf": 64, "n_blocks": 9, "dropout": 0.5,
                                       "learn_residual": True}  # fmt: skip


def test_mistakes_name_the_key():
    with pytest.raises(ConfigError, match="data.mix.scene_frames"):
        load_sprint_config(None, ["data.mix.scene_frames=4"])
    with pytest.raises(ConfigError, match="unknown key 'run.minutse'"):
        load_sprint_config(None, ["run.minutse=3"])
    with pytest.raises(ConfigError, match="model.architecture"):
        load_sprint_config(None, ["model.architecture=unet"])
    with pytest.raises(ConfigError, match="adversarial_weight: must be > 0"):
        load_sprint_config(None, ["loss.gan=wgan-gp"])
    assert load_sprint_config(None, ["run.compile=false"]).run.compile is False
