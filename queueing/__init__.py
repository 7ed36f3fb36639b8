"""queueing: reference queueing models that prove the engine against closed forms.

* :mod:`queueing.theory` - M/M/1, M/M/c (Erlang C), M/G/1 (Pollaczek-Khinchine), M/M/1/K and
  Jackson tandem networks: pure functions;
* :mod:`queueing.model` - the same systems as processes on :class:`netsim.Simulation`;
* :mod:`queueing.admission` - M/M/c/K admission control (accept/reject each arrival);
* :mod:`queueing.scenario` - config schema and `build()` of the ``mm1``, ``mmc`` and ``tandem``
  studies (which live in :mod:`scenarios.queues`);
* :mod:`queueing.admission_batch` - N admission queues stepped together in numpy.

References: Kleinrock, *Queueing Systems Vol. 1* (1975); Gross & Harris, *Fundamentals of
Queueing Theory*; Jackson, Oper. Res. 5(4), 1957; Naor, Econometrica 37(1), 1969.
"""

from .theory import QueueMetrics, erlang_b, erlang_c, mg1, mm1, mm1k, mmc, tandem

__all__ = ["QueueMetrics", "erlang_b", "erlang_c", "mg1", "mm1", "mm1k", "mmc", "tandem"]
