import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402

from utils.book import plots  # noqa: E402
from utils.training.loops import TrainingLog  # noqa: E402


def test_training_log_shades_adams_reach_around_the_start():
    log = TrainingLog(loss=[4.0, 3.0, 2.5], temperature=[0.07, 0.0699, 0.0698])
    fig = plots.training_log(log, start_temperature=0.07, lr=1e-3)
    loss_ax, temp_ax = fig.axes
    band = temp_ax.collections[0].get_paths()[0].vertices[:, 1]
    assert np.isclose(band.max(), 0.07 * np.exp(3e-3)) and np.isclose(band.min(), 0.07 * np.exp(-3e-3))
    plt.close(fig)


def test_temperature_landscape_labels_each_minimum():
    grid = np.geomspace(0.01, 1, 5)
    fig = plots.temperature_landscape(grid, {"trained": [3, 1, 2, 4, 5]}, {"from 1.0": [1.0, 0.5, 0.1]})
    assert "lowest at 0.0316" in fig.axes[0].get_legend().get_texts()[0].get_text()
    plt.close(fig)


def test_text_from_data_is_drawn_literally_even_with_dollar_signs():
    """An untrained captioner can print "$$$$": matplotlib must show it, not parse it as a formula and fail."""
    fig = plots.image_grid([Image.new("RGB", (8, 8))] * 2, ["BEAM $$$$$$$$", "costs $5 or $6"], cols=2)
    fig.canvas.draw()
    assert [ax.get_title() for ax in fig.axes] == [r"BEAM \$\$\$\$\$\$\$\$", r"costs \$5 or \$6"]
    plt.close(fig)
    fig, ax = plt.subplots()
    plots.confusion(ax, torch.eye(2), ["$a$", "b$"], "classes")
    fig.canvas.draw()
    plt.close(fig)
