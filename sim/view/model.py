"""`ViewModel`: the model the browser view steps.

Mesa's SolaraViz rebuilds a model from keyword arguments of primitive values (its Reset button calls
``ViewModel(**inputs)``), so this wrapper takes the scenario file name and the levers as text and builds
the `MigrationModel` they describe. Bad input does not raise: the model keeps the message in
``input_error``, shows the scenario as written without stepping, and the view displays the message.

It also holds a fixed sample of a few hundred users for the network picture: a few US creators with
their follow neighbourhoods and a few Chinese users with theirs, laid out once.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np
import scipy.sparse as sp

from sim import network
from sim.model import MigrationModel
from sim.scenario import ScenarioError
from sim.view.levers import LEVER_NAMES, LeverError, apply_levers, changed_levers, load_base

US_SEEDS, CN_SEEDS = 4, 3  # ego neighbourhoods in the network sample
PER_SEED = 55  # neighbours kept per seed user
CN_OFFSET = 1.35  # x offset of the Chinese half of the picture
RUN_SETTINGS = ("agents", "seed")  # levers the baseline shares with the run (the rest are policy levers)


class ViewModel(MigrationModel):
    """A `MigrationModel` built from a scenario file name and the view's lever texts."""

    def __init__(
        self, scenario_file: str = "historical_2025.yaml", scenario: object = None, run: str = "", **kwargs: str
    ) -> None:
        """``kwargs``: the levers by name (`sim.view.levers.LEVERS`), as text; missing or blank = as in the
        scenario. (Mesa's SolaraViz accepts extra keywords only under the name ``kwargs``.) ``run``: the run
        index as text (blank = 0); with a posterior fit, run r uses posterior draw r mod D, as run r of
        ``python run.py`` does (`sim.calibration.parameter_draw`).

        ``scenario`` is Mesa's, not a scenario file: on Reset, Mesa >= 3.5's SolaraViz passes a fresh
        ``mesa.experimental.scenarios.Scenario`` without parameters. It carries nothing this model uses (the
        Seed lever sets the seed), so it is checked and dropped."""
        if scenario is not None and not _parameterless_mesa_scenario(scenario):
            raise TypeError(f"ViewModel: scenario= is Mesa's Scenario; name the file with scenario_file= (got {scenario!r})")
        unknown = set(kwargs) - set(LEVER_NAMES)
        if unknown:
            raise TypeError(f"ViewModel: unknown lever(s) {sorted(unknown)}; levers: {', '.join(LEVER_NAMES)}")
        self.scenario_file = scenario_file
        self.input_errors: list[str] = []
        self.levers_changed = changed_levers(kwargs)  # what the user set (blank and 'as in scenario' left out)
        base = load_base(scenario_file)  # the picker offers only files that load (sim.view.app)
        try:
            built = apply_levers(base, kwargs)
        except LeverError as exc:
            self.input_errors, built = exc.messages, base
        except ScenarioError as exc:
            self.input_errors, built = [str(exc)], base
        index, run_error = parse_run(run)
        self.input_errors += [run_error] if run_error else []
        super().__init__(built, index)
        self.sample = NetworkSample.draw(self)
        self.baseline: MigrationModel | None = None  # the scenario as written at this size and seed, day by day
        if self.input_errors:
            self.running = False
        else:
            as_written = apply_levers(base, {k: v for k, v in kwargs.items() if k in RUN_SETTINGS})
            if as_written != built:  # the policy levers change something: run the scenario without them alongside
                self.baseline = MigrationModel(as_written, index)

    @property
    def input_error(self) -> str | None:
        return "\n".join(self.input_errors) or None

    def _wrapped_step(self, *args, **kwargs) -> None:
        """Mesa's step (its step counter and time, then `step`): nothing at all until the input is fixed or
        past the horizon, so Mesa's counter stays at the day shown."""
        if self.input_errors or not self.running:
            return
        super()._wrapped_step(*args, **kwargs)

    def step(self) -> None:
        super().step()
        if self.baseline is not None and self.baseline.running:
            self.baseline.step()


MAX_RUN = 1_000_000
RUN_LABEL = "Run (posterior draw)"


def parse_run(text: str) -> tuple[int, str | None]:
    """The run index typed in the view (blank = 0) and the message if it is not one."""
    text = str(text).strip()
    if not text:
        return 0, None
    if text.isdigit() and int(text) <= MAX_RUN:
        return int(text), None
    return 0, f"{RUN_LABEL}: {text!r} is not allowed; give a whole number from 0 to {MAX_RUN:,} (blank = 0)"


def _parameterless_mesa_scenario(value: object) -> bool:
    """Mesa's own base ``Scenario`` with no parameters (Mesa >= 3.5): what SolaraViz's Reset passes."""
    try:
        from mesa.experimental.scenarios import Scenario
    except ImportError:  # Mesa 3.3 has none, and its SolaraViz passes none
        return False
    return type(value) is Scenario and set(dict(value)) <= set(dict(Scenario()))


@dataclass
class NetworkSample:
    """A fixed set of US and Chinese agents with positions and the follow edges among them."""

    us: np.ndarray  # US agent indices
    cn: np.ndarray  # Chinese agent indices
    us_xy: np.ndarray  # (len(us), 2)
    cn_xy: np.ndarray
    us_edges: np.ndarray  # (k, 2) positions in `us`
    cn_edges: np.ndarray

    @classmethod
    def draw(cls, model: MigrationModel) -> NetworkSample:
        rng = model.streams.get("view.sample")
        creators = np.flatnonzero(model.us.is_creator)
        us_seeds = rng.choice(
            creators if creators.size >= US_SEEDS else model.us.n, size=min(US_SEEDS, model.us.n), replace=False
        )
        cn_degree = model.cn.n_following + network.in_degree(model.cn.follows)
        well_connected = np.flatnonzero(cn_degree >= np.quantile(cn_degree, 0.95))  # so the sample shows a neighbourhood
        cn_seeds = rng.choice(well_connected, size=min(CN_SEEDS, well_connected.size), replace=False)
        us, us_edges = _ego_sample(model.us.follows, us_seeds, rng)
        cn, cn_edges = _ego_sample(model.cn.follows, cn_seeds, rng)
        return cls(
            us, cn, _layout(us.size, us_edges, rng), _layout(cn.size, cn_edges, rng) + [CN_OFFSET, 0.0], us_edges, cn_edges
        )

    def cross_ties(self, model: MigrationModel) -> tuple[np.ndarray, np.ndarray]:
        """Follow ties by Chinese users of the sampled US users, as line segments: (from_xy, to_xy).

        A follower in the Chinese sample is drawn at its place; any other follower at a fixed point of
        the Chinese half chosen from its index (so the line does not jump between steps)."""
        cn_idx, us_idx = model.ties.pairs()
        where = np.full(model.us.n, -1, dtype=np.int64)
        where[self.us] = np.arange(self.us.size)
        keep = where[us_idx] >= 0
        cn_idx, us_pos = cn_idx[keep], where[us_idx[keep]]
        cn_where = np.full(model.cn.n, -1, dtype=np.int64)
        cn_where[self.cn] = np.arange(self.cn.size)
        inside = cn_where[cn_idx] >= 0
        golden = (cn_idx * 0.6180339887) % 1.0
        other_xy = np.column_stack((CN_OFFSET + 0.05 + 0.9 * ((cn_idx * 0.7548776662) % 1.0), 0.05 + 0.9 * golden))
        to_xy = np.where(inside[:, None], self.cn_xy[np.maximum(cn_where[cn_idx], 0)], other_xy)
        return self.us_xy[us_pos], to_xy


def _ego_sample(graph: sp.csr_matrix, seeds: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Seeds plus up to PER_SEED of each seed's followees and followers; edges among them (undirected)."""
    both = (graph + graph.T).tocsr()
    chosen = [seeds]
    for s in seeds:
        neighbours = both.indices[both.indptr[s] : both.indptr[s + 1]]
        chosen.append(rng.choice(neighbours, size=min(PER_SEED, neighbours.size), replace=False))
    nodes = np.unique(np.concatenate(chosen))
    sub = sp.triu(both[nodes][:, nodes], k=1).tocoo()
    return nodes, np.column_stack((sub.row, sub.col)).astype(np.int64)


def _layout(n: int, edges: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Spring layout scaled into the unit square (computed once: the picture keeps its shape)."""
    graph = nx.Graph()
    graph.add_nodes_from(range(n))
    graph.add_edges_from(map(tuple, edges))
    pos = nx.spring_layout(graph, seed=int(rng.integers(2**31)), iterations=60)
    xy = np.array([pos[i] for i in range(n)], dtype=np.float64)
    span = np.maximum(xy.max(axis=0) - xy.min(axis=0), 1e-9)
    return 0.05 + 0.9 * (xy - xy.min(axis=0)) / span
