import os
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def ray_local(tmp_path_factory):
    """A local Ray instance on 2 CPUs whose workers import ``fakes``, kept off the network: Ray's processes take the
    loopback address (``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0``, read when Ray is first imported), send no usage
    stats, and find a cluster config naming a local provider (without one Ray's dashboard asks the cloud metadata
    addresses which cloud it is on). The environment is set before ``import ray`` and given back once Ray's
    processes have started with it."""
    home = tmp_path_factory.mktemp("ray-home")
    (home / "ray_bootstrap_config.yaml").write_text("provider:\n  type: local\n")
    here = str(Path(__file__).parent)
    env = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "RAY_USAGE_STATS_ENABLED": "0", "HOME": str(home),
           "PYTHONPATH": os.pathsep.join([here, os.environ.get("PYTHONPATH", "")])}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        ray = pytest.importorskip("ray", reason="Ray is the optional extra yoloprune[search]")
        from ray._private import ray_constants

        # Ray may be imported already (Ultralytics' Ray Tune callback imports it during any training), after which
        # the variable is not read again in this process: the same setting, made directly
        ray_constants.ENABLE_RAY_CLUSTER = False
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    yield ray
    ray.shutdown()
