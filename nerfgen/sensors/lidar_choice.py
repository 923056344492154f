"""How command lines name a LiDAR: none, or a preset of nerfgen.sensors.lidar_specs
(`chosen_lidar` turns the name into a LidarSpec). Its own module because CLI configs
import it at start-up and lidar_specs pulls in nerfgen.gt."""
from typing import Literal

LidarChoice = Literal["none", "vlp16", "hdl32e", "hdl64e"]
