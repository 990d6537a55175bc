"""The sweep form's reading of typed lists (static/js/sweep_form.js), in node: a value that is no
number is named before any run is counted or sent (a fresh user typed "abc, 0.01" for lr and the
server answered "lr = None")."""

from __future__ import annotations

from js_modules import run_js


def test_a_typed_value_that_is_no_number_is_named():
    answer = run_js("""
      const { axisError } = await importModule('/static/js/sweep_form.js');
      return [axisError('lr', 'abc, 0.01'), axisError('lr', '0.01, 1e-3'),
              axisError('hidden', '4; 16,16'), axisError('hidden', '4; 16,x'),
              axisError('hidden', '2.5'), axisError('activation', 'relu, tanh'),
              axisError('dropout', '')];
    """)
    assert answer[0] == "lr: “abc” is not a number"
    assert answer[1] is None and answer[2] is None
    assert answer[3].startswith("hidden: “x”") and answer[4].startswith("hidden: “2.5”")
    assert answer[5] is None and answer[6] is None


def test_seed_groups_get_distinct_colours_before_any_repeats():
    # six configs of two seeds each (a sweep's loss curves): 12 runs, 6 lines, 8 colours
    answer = run_js("""
      const { Overlay } = await importModule('/static/js/runs_overlay.js');
      const runs = [];
      for (let c = 0; c < 6; c++) for (let seed = 0; seed < 2; seed++) {
        runs.push({ id: `r${c}-${seed}`, task: 'sin', config: { hidden: [c + 1], seed } });
      }
      const fake = { runs, grouping: true, colours: new Map(),
                     histories: new Map(runs.map((run) => [run.id, { columns: {} }])),
                     assignColours: Overlay.prototype.assignColours };
      const lines = Overlay.prototype.groupLines.call(fake);
      return lines.map((line) => line.colour);
    """)
    assert len(answer) == 6 and len(set(answer)) == 6, answer


def test_layer_candidates_lie_around_the_current_layers_within_the_limits():
    answer = run_js("""
      const { layerCandidates } = await importModule('/static/js/sweep_form.js');
      return [layerCandidates([32, 32]), layerCandidates([1]), layerCandidates([]),
              layerCandidates([1000, 3], { maxNeurons: 1024, maxLayers: 2 })];
    """)
    assert answer[0] == {"widths": "16,16; 32,32; 64,64", "depths": "32; 32,32; 32,32,32"}
    assert answer[1] == {"widths": "1; 2", "depths": "none; 1; 1,1"}
    assert answer[2] == {"widths": "8; 16; 32", "depths": "none; 16; 16,16"}
    assert answer[3] == {"widths": "500,2; 1000,3; 1024,6", "depths": "1000; 1000,3"}


def test_the_overlay_legend_names_what_tells_two_lines_apart():
    # a fresh user compared two seed groups of sin [64,64] and the legend hid the lr that differed
    answer = run_js("""
      const { Overlay, differingFields } = await importModule('/static/js/runs_overlay.js');
      const run = (id, lr, seed) => ({ id: `${id}0000000`, task: 'sin',
        config: { hidden: [64, 64], lr, seed, optimizer: 'adam',
                  schedule: { name: 'constant' } } });
      const runs = [run('a', 0.01, 0), run('b', 0.01, 1), run('c', 0.1, 0), run('d', 0.1, 1)];
      const fake = { runs, grouping: true, colours: new Map(), axis: 'epoch', differing: [],
                     histories: new Map(runs.map((r) => [r.id, { epoch: [1], test_loss: [1] }])),
                     assignColours: Overlay.prototype.assignColours };
      const lines = Overlay.prototype.groupLines.call(fake);
      fake.differing = differingFields(lines.map((line) => line.runs[0]));
      const names = lines.map((line) => Overlay.prototype.traces
        .call(fake, line, 'test_loss', 'solid')
        .filter((trace) => trace.showlegend !== false).map((trace) => trace.name)).flat();
      // a fresh user's two runs, one watched on Auto and one at full speed: the pace is not
      // what tells them apart
      const paced = { ...runs[0], config: { ...runs[0].config, epochs_per_second: 'auto' } };
      const full = { ...runs[2], config: { ...runs[2].config, epochs_per_second: null } };
      return { differing: fake.differing, names,
               one: differingFields([runs[0]]), seeds: differingFields([runs[0], runs[1]]),
               pace: differingFields([paced, full]) };
    """)
    assert answer["differing"] == ["lr"]
    # what every line shares (the task, the layers) is left out: a second fresh user saw the
    # legend swamp the chart with it
    assert answer["names"] == ["a0000000 lr 0.01 (2 seeds)", "c0000000 lr 0.1 (2 seeds)"]
    assert answer["one"] == ["task", "hidden"]  # one line says what it is
    assert answer["seeds"] == []
    assert answer["pace"] == ["lr"]


def test_layer_sizes_over_the_schemas_limits_are_refused_before_launch():
    answer = run_js("""
      const { axisError } = await importModule('/static/js/sweep_form.js');
      const limits = { maxNeurons: 1024, maxLayers: 8 };
      return [axisError('hidden', '4;16;2000', limits), axisError('hidden', '4;16;1024', limits),
              axisError('hidden', '2,2,2,2,2,2,2,2,2', limits), axisError('hidden', '4;x', limits)];
    """)
    assert answer[0] == "hidden: 2000 neurons is more than a layer takes (at most 1024)"
    assert answer[1] is None
    assert answer[2] == "hidden: “2,2,2,2,2,2,2,2,2” has 9 layers (at most 8)"
    assert answer[3].startswith("hidden: “x” is not a number of neurons")


def test_the_layer_configs_are_shown_as_read():
    answer = run_js("""
      const { configsText } = await importModule('/static/js/sweep_form.js');
      return [configsText('4, 16, 64'), configsText('4; 16; 64'), configsText('16,16; none'),
              configsText('')];
    """)
    assert answer[0] == "1 config: 4,16,64 — 3 layers in one net"
    assert answer[1] == "3 configs: 4 · 16 · 64"
    assert answer[2] == "2 configs: 16,16 · none"
    assert answer[3] == ""
