"""ran: radio access network models.

* ``ran.slicing`` - O-RAN slicing: traffic classification into slices and PRB allocation
  (TRACTOR, Groen et al.);
* ``ran.comp`` - market-based short-term CoMP allocation for UEs in handover in small-cell
  networks (Mukherjee & Huberman).
"""
