"""Each vectorized rule against a plain-loop reference written from its definition, on small inputs."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp

from sim import cn_users, network, regulator, us_users
from sim.params import TOPICS, CnUsers, Mechanisms, UsUsers

RNG = np.random.default_rng(7)
MECH = Mechanisms()


def random_graph(n: int = 40, p: float = 0.15) -> sp.csr_matrix:
    dense = (RNG.random((n, n)) < p).astype(np.float32)
    np.fill_diagonal(dense, 0)
    dense[3] = 0  # a user who follows nobody
    return sp.csr_matrix(dense)


def test_exposure_is_mean_signal_over_followees():
    g = random_graph()
    signal = RNG.random(g.shape[0]).astype(np.float32)
    got = network.exposure(g, signal)
    dense = g.toarray()
    for i in range(g.shape[0]):
        followees = [j for j in range(g.shape[0]) if dense[i, j]]
        expected = sum(signal[j] for j in followees) / len(followees) if followees else 0.0
        assert got[i] == pytest.approx(expected, rel=1e-5, abs=1e-7)


def test_friends_share_is_the_share_of_followees_in_the_state():
    g = random_graph()
    state = RNG.integers(0, 3, g.shape[0]).astype(np.int8)
    rows = np.array([0, 3, 5, 39])  # row 3 follows nobody
    got = network.share_in_state(g, state, 1, rows)
    dense = g.toarray()
    for r, i in enumerate(rows):
        followees = np.flatnonzero(dense[i])
        assert got[r] == pytest.approx((state[followees] == 1).mean() if followees.size else 0.0, rel=1e-6)


def test_csr_from_rows_drops_self_loops_and_duplicates():
    out_degree = np.array([3, 1, 3, 0, 1])
    dst = np.array([1, 1, 0, 2, 3, 3, 4, 4])
    src = np.repeat(np.arange(5), out_degree)

    def fill(offsets, out):
        out[:] = dst

    g = network._csr_from_rows(out_degree, fill)
    expected = {(a, b) for a, b in zip(src, dst) if a != b}
    assert set(zip(*g.nonzero())) == expected
    assert g.nnz == len(expected) and (g.data == 1).all() and g.has_canonical_format


def test_tieset_matches_a_python_set():
    ties = network.TieSet(50)
    reference: set[tuple[int, int]] = set()
    for _ in range(20):
        src, dst = RNG.integers(0, 30, 15), RNG.integers(0, 50, 15)
        fresh = ties.add(src, dst)
        for k, (a, b) in enumerate(zip(src, dst)):
            is_new = (a, b) not in reference
            reference.add((int(a), int(b)))
            assert fresh[k] == (is_new and (a, b) not in list(zip(src, dst))[:k])
        assert len(ties) == len(reference)
    assert set(zip(*map(list, ties.pairs()))) == reference


def test_join_hazard_and_adoption_match_loop():
    p, n = UsUsers(), 200
    motive, mult = RNG.random(n), np.where(RNG.random(n) < 0.1, p.creator_salience_multiplier, 1.0)
    dark, expo, u = RNG.random(n), RNG.random(n) * 0.3, RNG.random(n)
    salience = 1.7
    hazard = us_users.join_hazard(p, MECH, salience, motive, mult, dark, expo)
    acts = us_users.adopt(hazard, u, p, MECH, expo, np.full(n, 0.2))
    for i in range(n):
        h = (
            p.join_base_rate
            + p.join_salience_rate * salience * motive[i] * mult[i]
            + p.join_displaced_rate * dark[i]
            + p.peer_influence * expo[i]
        )
        assert hazard[i] == pytest.approx(h)
        assert acts[i] == (u[i] < 1 - math.exp(-h))


def test_threshold_contagion_joins_everyone_at_or_above_threshold():
    p = UsUsers(contagion="threshold")
    expo = np.array([0.0, 0.1, 0.2, 0.3])
    threshold = np.array([0.0, 0.2, 0.2, 0.2])
    hazard = us_users.join_hazard(
        p,
        Mechanisms(spontaneous_joining=False, news_salience=False, outside_option=False),
        0.0,
        np.ones(4),
        np.ones(4),
        np.zeros(4),
        expo,
    )
    assert (hazard == 0).all()  # no rate term under threshold contagion
    acts = us_users.adopt(hazard, np.full(4, 0.5), p, MECH, expo, threshold)
    assert acts.tolist() == [False, False, True, True]  # zero exposure never triggers


def test_expected_signups_match_loop_and_are_the_mean_over_the_people_an_agent_stands_for():
    """Followers see the expected share of an agent's people who signed up: of those still without an
    account, the acting share, of whom the verified ones join (the rest are blocked)."""
    n = 60
    not_joined, chance, verify = RNG.random(n).astype(np.float32), RNG.random(n), RNG.random(n)
    newly, left = us_users.expected_signups(not_joined, chance, True, verify)
    for i in range(n):
        assert newly[i] == pytest.approx(not_joined[i] * chance[i] * verify[i], rel=1e-5)
        assert left[i] == pytest.approx(not_joined[i] * (1 - chance[i]), rel=1e-5)
    assert not us_users.expected_signups(not_joined, chance, False, verify)[0].any()  # nobody installs it
    # 3 000 people behind one agent, each drawing for themselves over days of changing chances
    people, share, joined = 3_000, np.ones(1, dtype=np.float32), np.zeros(3_000, dtype=bool)
    total = 0.0
    for c in (0.01, 0.2, 0.5, 0.05):
        acting = ~joined & (RNG.random(people) < c)
        joined |= acting
        newly, share = us_users.expected_signups(share, np.array([c]), True, 1.0)
        total += float(newly[0])
    assert abs(joined.mean() - total) < 4 * 0.5 / math.sqrt(people)
    assert share[0] == pytest.approx(1 - total, rel=1e-5)


def test_stay_utility_matches_loop_and_switches():
    p, n = UsUsers(), 50
    kw = {
        k: RNG.random(n)
        for k in (
            "taste",
            "engagement",
            "ties_real",
            "friends_share",
            "fit",
            "protest",
            "curiosity",
            "novelty",
            "tenure",
            "friction",
            "moderation",
            "tiktok_works",
            "other_active",
        )
    }
    got = us_users.stay_utility(p, MECH, salience=1.2, degradation=0.3, **kw)
    for i in range(n):
        k = {name: v[i] for name, v in kw.items()}
        expected = (
            p.habit
            + k["taste"]
            + p.w_engagement * math.log1p(k["engagement"])
            + p.w_ties * math.log1p(k["ties_real"])
            + p.w_friends * k["friends_share"]
            + p.w_fit * k["fit"]
            + p.w_protest * k["protest"] * 1.2
            + p.w_novelty * k["curiosity"] * k["novelty"]
            + p.w_tenure * math.log1p(k["tenure"])
            - p.w_moderation * k["moderation"]
            - p.w_degradation * 0.3
            - p.w_language * k["friction"]
            - p.w_tiktok * k["tiktok_works"]
            - p.w_other * k["other_active"]
        )
        assert got[i] == pytest.approx(expected)
    off = us_users.stay_utility(p, Mechanisms(language_friction=False, outside_option=False), salience=1.2, degradation=0.3, **kw)
    assert np.allclose(
        off - got, p.w_language * kw["friction"] + p.w_tiktok * kw["tiktok_works"] + p.w_other * kw["other_active"]
    )


def test_language_friction_and_topic_draws():
    literacy, quality = RNG.random(30), 0.7
    assert np.allclose(us_users.language_friction(literacy, quality), [(1 - x) * (1 - quality) for x in literacy])
    mix = RNG.dirichlet(np.ones(len(TOPICS)), 30)
    cdf = np.cumsum(mix, axis=1)
    u = RNG.random(30)
    got = us_users.draw_topics(u, cdf)
    for i in range(30):
        expected = next(k for k in range(len(TOPICS)) if u[i] < cdf[i, k] or k == len(TOPICS) - 1)
        assert got[i] == expected


def test_machine_and_complaint_removals_match_loop():
    n = 300
    violating, u, complaints = RNG.random(n) < 0.3, RNG.random(n), RNG.integers(1, 5, n)
    machine = regulator.machine_removes(violating, u, 0.6, 0.05)
    comp = regulator.complaint_removes(violating, complaints, u, 0.7, 0.1)
    for i in range(n):
        assert machine[i] == (u[i] < (0.6 if violating[i] else 0.05))
        s = 0.7 if violating[i] else 0.1
        assert comp[i] == (u[i] < 1 - (1 - s) ** complaints[i])


def test_reaction_probabilities_match_loop():
    p, n = CnUsers(), 100
    topic = RNG.integers(0, len(TOPICS), n)
    att, eng = RNG.uniform(-1, 1, n).astype(np.float32), RNG.random(n).astype(np.float32)  # the model's traits
    welcome, hostile = cn_users.reaction_probabilities(p, MECH, topic, att, eng, 0.6)
    for i in range(n):
        w = min(1.0, p.topic_welcome.as_tuple()[topic[i]] * (1 + att[i]) * (0.5 + 0.5 * (eng[i] + (1 - eng[i]) * 0.6)))
        h = min(1.0, p.topic_hostility.as_tuple()[topic[i]] * (1 - att[i]))
        if w + h > 1:
            w, h = w / (w + h), h / (w + h)
        assert welcome[i] == pytest.approx(w) and hostile[i] == pytest.approx(h)
    assert ((welcome + hostile) <= 1 + 1e-12).all()
    # to the bit, as numpy computes it with the model's float32 traits and a Python float
    att32, eng32 = att, eng
    w = np.asarray(p.topic_welcome.as_tuple())[topic] * (1.0 + att32) * (0.5 + 0.5 * (eng32 + (1.0 - eng32) * 0.6))
    h = np.asarray(p.topic_hostility.as_tuple())[topic] * (1.0 - att32)
    w, h = np.minimum(w, 1.0), np.minimum(h, 1.0)
    scale = np.where(w + h > 1.0, 1.0 / np.maximum(w + h, 1e-12), 1.0)
    welcome, hostile = cn_users.reaction_probabilities(p, MECH, topic, att32, eng32, 0.6)
    np.testing.assert_array_equal(welcome, w * scale)
    np.testing.assert_array_equal(hostile, h * scale)


@pytest.mark.parametrize("language_friction", [True, False])
def test_views_and_reactions_in_the_compiled_pass_equal_the_array_functions(language_friction: bool):
    """`CnUsers._decide` picks each view's post, draws the reaction and its consequences in one compiled pass
    over the viewers; the same views through the array functions (`choose`, `reaction_probabilities`,
    `uniforms` of slots 5v+1..5v+4) give the same posts, authors and reactions, view by view."""
    from sim import rng

    p, gen = CnUsers(), np.random.default_rng(11)
    n, n_posts, day = 3000, 400, 9
    key = rng.stream_key(3, 0, "cn.reactions")
    attitude = gen.uniform(-1, 1, n).astype(np.float32)
    english = gen.random(n).astype(np.float32)
    viewers = np.sort(gen.choice(n, 900, replace=False))
    counts = gen.integers(1, 6, viewers.size)
    first = np.cumsum(counts) - counts
    topics = gen.integers(0, len(TOPICS), n_posts).astype(np.int8)
    authors = gen.integers(0, 5000, n_posts).astype(np.int32)
    cum = np.cumsum(gen.pareto(1.2, n_posts))
    m = int(counts.sum())
    ints, bools = [np.empty(m, np.int64) for _ in range(3)], [np.empty(m, bool) for _ in range(6)]
    cn_users._views_and_reactions(
        rng.kernel_key(key, day), viewers, counts, first, cum, rng.guide_table(cum), topics, authors,
        np.asarray(p.topic_welcome.as_tuple()), np.asarray(p.topic_hostility.as_tuple()), attitude, english, 0.6,
        language_friction, p.reply_share_when_welcoming, p.complaint_given_hostile, p.follow_given_welcome,
        p.follow_back, *ints, *bools,
    )  # fmt: skip
    viewer, post, author = ints
    welcome, hostile, reply, complaint, follow, follow_back = bools

    v = np.arange(m) - np.repeat(first, counts)  # each view's number among its viewer's views
    np.testing.assert_array_equal(viewer, np.repeat(viewers, counts))
    np.testing.assert_array_equal(post, rng.choose(key, day, viewer, cum, 5 * v))
    np.testing.assert_array_equal(author, authors[post])
    mech = Mechanisms(language_friction=language_friction)
    w, h = cn_users.reaction_probabilities(p, mech, topics[post], attitude[viewer], english[viewer], 0.6)
    u = [rng.uniforms(key, day, viewer, 5 * v + slot) for slot in (1, 2, 3, 4)]
    np.testing.assert_array_equal(welcome, u[0] < w)
    np.testing.assert_array_equal(hostile, ~welcome & (u[0] < w + h))
    np.testing.assert_array_equal(reply, welcome & (u[1] < p.reply_share_when_welcoming))
    np.testing.assert_array_equal(complaint, hostile & (u[1] < p.complaint_given_hostile))
    np.testing.assert_array_equal(follow, welcome & (u[2] < p.follow_given_welcome))
    np.testing.assert_array_equal(follow_back[follow], u[3][follow] < p.follow_back)
    assert welcome.any() and hostile.any() and reply.any() and complaint.any() and follow.any() and follow_back.any()


def test_view_rate_and_attitude_drift_match_loop():
    p, n = CnUsers(), 60
    active, openness, curiosity = RNG.random(n) < 0.5, RNG.random(n), RNG.random(n)
    rate = cn_users.view_rate(p, active, openness, curiosity, 0.5, 0.04)
    att, wel, hos = RNG.uniform(-1, 1, n), RNG.integers(0, 4, n), RNG.integers(0, 3, n)
    new = cn_users.drift_attitude(p, att, wel, hos, active, openness, 0.04)
    for i in range(n):
        assert rate[i] == pytest.approx(
            active[i] * 0.5 * (p.views_when_curious * openness[i] * curiosity[i] + p.views_from_feed * 0.04)
        )
        d = p.dilution_gain * max(0, 0.04 - p.dilution_tolerance) * (1 - openness[i]) * active[i]
        assert new[i] == pytest.approx(min(1, max(-1, att[i] + p.warmth_gain * wel[i] - p.hostility_gain * hos[i] - d)), abs=1e-6)


@pytest.mark.parametrize("feed_share", [0.0, 0.3])
def test_attitude_drift_in_the_compiled_pass_equals_the_array_rule_to_the_bit(feed_share: float):
    """`CnUsers._drift` sums each viewer's welcoming and hostile views and applies `drift_attitude` in one
    compiled pass over the rows concerned: the same float32 attitudes as the array rule, with and without
    dilution, for viewers with several views and rows nobody viewed."""
    p, n = CnUsers(), 500
    attitude = RNG.uniform(-1, 1, n).astype(np.float32)
    openness, active = RNG.random(n).astype(np.float32), RNG.random(n) < 0.6
    rows = np.sort(RNG.choice(n, 300, replace=False))
    viewer = np.sort(RNG.choice(rows, 900))  # with repeats: several views each
    welcome = RNG.random(viewer.size) < 0.5
    hostile = ~welcome & (RNG.random(viewer.size) < 0.3)
    at = np.searchsorted(rows, viewer)
    expected = attitude.copy()
    expected[rows] = cn_users.drift_attitude(
        p, attitude[rows], np.bincount(at, welcome, rows.size), np.bincount(at, hostile, rows.size), active[rows],
        openness[rows], feed_share,
    )  # fmt: skip
    got = attitude.copy()
    cn_users._drift_rows(
        rows, viewer, welcome, hostile, got, openness, active, cn_users.dilution_rate(p, feed_share), p.warmth_gain,
        p.hostility_gain,
    )  # fmt: skip
    assert np.array_equal(got, expected)
    assert not np.array_equal(got[rows], attitude[rows])  # something drifted
    untouched = np.setdiff1d(np.arange(n), rows)
    assert np.array_equal(got[untouched], attitude[untouched])


def test_computations_on_the_rows_concerned_equal_full_passes(monkeypatch):
    """Weekly and monthly users, DAU and expected posts are computed on the few rows that can change
    (`UsUsers.measure`, `_post`), the memories and followers in a compiled pass that skips rows with neither
    memory nor news (`receive_feedback`); each equals the plain full-array numpy computation to the bit on
    every day, through the surge, returns of dormant accounts made before the run, bans and blocks."""
    from sim.model import MigrationModel
    from tests.conftest import small

    model = MigrationModel(small(agents=20_000, days=45))
    us = model.us
    shadow = {"engagement": us.engagement.copy(), "moderation": us.moderation.copy(), "cn_followers": us.cn_followers.copy()}
    feedback = us.receive_feedback

    def full_pass_too(replies, moderation_events, new_cn_followers):
        keep, replies_real = us.memory_decay, replies.astype(np.float64) * us.tie_scale
        shadow["engagement"] = (keep * shadow["engagement"] + (1.0 - keep) * replies_real).astype(np.float32)
        shadow["moderation"] = (keep * shadow["moderation"] + (1.0 - keep) * moderation_events).astype(np.float32)
        shadow["cn_followers"] = shadow["cn_followers"] + new_cn_followers
        feedback(replies, moderation_events, new_cn_followers)

    monkeypatch.setattr(us, "receive_feedback", full_pass_too)
    post, expected_posts = us._post, []

    def with_full_dot(day):
        posts = post(day)  # the expected posts as the day's decisions left them (before the screening's bans)
        expected_posts.append((us.expected_posts, float(np.dot(us.use_chance, us.post_prob))))
        return posts

    monkeypatch.setattr(us, "_post", with_full_dot)
    initially_dormant = us.state == us_users.DORMANT
    returned_from_before = np.zeros(us.n, dtype=bool)
    while model.running:
        model.step()
        day, w = model.day - 1, us.weight
        returned_from_before |= initially_dormant & (us.last_use_day == day)
        assert np.array_equal(np.sort(us.users_today), np.flatnonzero(us.uses_today))
        assert model.metrics["us_rednote_dau"] == pytest.approx(us.uses_today.sum() * w)
        assert model.metrics["us_rednote_wau"] == pytest.approx((us.last_use_day > day - 7).sum() * w)
        assert model.metrics["us_rednote_mau"] == pytest.approx((us.last_use_day > day - 30).sum() * w)
        assert expected_posts[-1][0] == pytest.approx(expected_posts[-1][1], rel=1e-9, abs=1e-12)
        assert np.array_equal(us.engagement, shadow["engagement"])
        assert np.array_equal(us.moderation, shadow["moderation"])
        assert np.array_equal(us.cn_followers, shadow["cn_followers"])
    assert (
        returned_from_before.any() and us.engagement.any() and us.moderation.any() and us.cn_followers.any()
    )  # the cases were exercised


@pytest.mark.parametrize("threads", [1, 2])
def test_attention_and_views_equal_the_rules_and_the_hashtag_sums_add_in_row_order(threads: int):
    """`_attention_and_views` splits the users evenly between threads and adds the views sought out in a
    second pass: each user's activity, noticing and views are the rules' (`notice`, `viewing`, `poisson`
    of slot 1), and each chunk's sum is the one a plain loop adds in row order, on one and two threads,
    with a last chunk shorter than the others."""
    import numba

    from sim import rng

    if threads > numba.config.NUMBA_NUM_THREADS:
        pytest.skip("numba has a single thread here")
    gen, n, day = np.random.default_rng(5), 2 * cn_users.CHUNK + 1234, 12
    key = rng.stream_key(4, 0, "cn.day")
    active_u, daily_use = rng.uniforms_all(key, day, n), gen.random(n).astype(np.float32)
    aware, curious, signal = (gen.random(n).astype(np.float32) * 0.5 for _ in range(3))
    exposure, openness = gen.random(n).astype(np.float32), gen.random(n).astype(np.float32)
    args = (0.4, 0.02, 0.3, 0.8, 0.9, openness, 0.7, 2.0, 0.05, True)  # salience .. draw_views
    active, views, seek = np.empty(n, bool), np.empty(n, np.int64), np.empty(n)
    sought = np.empty(-(-n // cn_users.CHUNK))
    state = aware.copy(), curious.copy(), signal.copy()
    before = numba.get_num_threads()
    numba.set_num_threads(threads)
    try:
        cn_users._attention_and_views(
            rng.kernel_key(key, day), active_u, daily_use, *state, exposure, *args, active, views, seek, sought
        )
    finally:
        numba.set_num_threads(before)

    np.testing.assert_array_equal(active, active_u < daily_use)
    hazard = cn_users.noticing(0.4, 0.02, 0.3, exposure)
    for got, want in zip(state, cn_users.notice(aware, curious, signal, hazard, 0.8, 0.9), strict=True):
        np.testing.assert_array_equal(got, want.astype(np.float32))  # float64 arithmetic, float32 state
    on = np.flatnonzero(active)
    want_seek = cn_users.viewing(1.0, openness[on], state[1][on], 0.7, 2.0, 0.0)
    np.testing.assert_array_equal(seek[on], want_seek)
    assert not views[~active].any() and not seek[~active].any()
    np.testing.assert_array_equal(views[on], rng.poisson(key, day, on, want_seek + 0.7 * 0.05, 1))
    for c in range(sought.size):
        total = 0.0
        for i in on[(on >= c * cn_users.CHUNK) & (on < (c + 1) * cn_users.CHUNK)]:
            total += seek[i]
        assert sought[c] == total


@pytest.mark.parametrize("n", [1, cn_users.BLOCK, 3 * cn_users.BLOCK + 17])
def test_the_listing_of_todays_users_and_viewers_equals_numpys(n: int):
    """`_on_and_viewers` writes every row at its block's next free place, overwritten by the next listed
    row: the lists equal numpy's, for blocks full, partial, empty, and all-listed."""
    gen = np.random.default_rng(n)
    for share in (0.0, 0.4, 1.0):
        active = gen.random(n) < share
        views = np.where(active & (gen.random(n) < 0.6), gen.integers(1, 5, n), 0)
        views[: min(n, cn_users.BLOCK)] *= n > cn_users.BLOCK  # a block with active users and no viewer
        on, viewers, counts, first, total = cn_users._on_and_viewers(active, views)
        np.testing.assert_array_equal(on, np.flatnonzero(active))
        np.testing.assert_array_equal(viewers, on[views[on] > 0])
        np.testing.assert_array_equal(counts, views[viewers])
        np.testing.assert_array_equal(first, np.cumsum(counts) - counts)
        assert total == views.sum()
