"""``python -m accelsim.train ...``: the ``accelsim train`` command as a module, for torchrun.

``torchrun --nproc_per_node N -m accelsim.train NETWORK --data SOURCE ...`` starts
``N`` processes of this module; each joins the process group from torchrun's
environment and trains its share of every global batch (see
:mod:`networks.training.placement`).  ``accelsim train --nproc N`` launches it
the same way.
"""

from accelsim.cli.train import main

if __name__ == "__main__":
    main()
