"""Training fields from posed images, and evaluating them. The public calls:

trained = train_field("data/lego", "runs/lego", downscale=8)   # -> TrainedField
trained = load_trained("runs/lego")                            # newest checkpoint
summary = evaluate(trained, load_dataset(...), "test", Path("runs/lego"))
"""

from nerfgen.train.api import train_field
from nerfgen.train.config import GridConfig, RunConfig, TrainConfig
from nerfgen.train.evaluate import evaluate
from nerfgen.train.run import TrainedField, load_trained

__all__ = ["GridConfig", "RunConfig", "TrainConfig", "TrainedField", "evaluate", "load_trained", "train_field"]
