"""The interactive browser view (``python run.py view``): a Mesa SolaraViz app.

- `sim.view.levers`  what the view's inputs mean: text and choices -> a validated scenario
- `sim.view.model`   `ViewModel`, the Mesa model the view steps (primitive parameters, a fixed network sample)
- `sim.view.panels`  the charts and the headline numbers, as plain matplotlib figures and text
- `sim.view.app`     the Solara page: SolaraViz with the levers and the panels
- `sim.view.server`  starts the page on 127.0.0.1
- `sim.view.browser` drives it in headless Chromium (the end-to-end test, benchmarks/bench_view.py)
"""
