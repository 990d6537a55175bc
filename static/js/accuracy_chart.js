// Accuracy chart (classification runs): train and test accuracy per epoch, in percent. Appending,
// throttling and redrawing are AppendingChart's; this file says what is drawn.

import { AppendingChart } from "./appending_chart.js";
import { baseLayout } from "./theme.js";

const TRACES = [0, 1];

const toPercent = (value) => (value === null || value === undefined ? null : 100 * value);

export class AccuracyChart extends AppendingChart {
  constructor(element) {
    // Shown for classification tasks only.
    super(element, {
      traces: TRACES,
      placeholder: "Accuracy per epoch<br>appears here",
      placeholderYAxis: { range: [0, 100] },
      visible: false,
    });
    this.yBounds = [0, 100]; // percentages (chart_ranges.js)
  }

  series(history) {
    if (!history || !history.epoch || !history.train_acc) return null;
    const { epoch, train_acc: train = [], test_acc: test = [] } = history;
    return { epoch, train, test };
  }

  pointValue(value) {
    return toPercent(value);
  }

  extension({ epoch, train, test }) {
    return { x: [epoch, epoch], y: [train, test] };
  }

  figure(p) {
    const { epoch, train, test } = this.history;
    const line = (name, values, color, dash) => ({
      type: "scatter", mode: "lines", name, x: epoch.slice(), y: values.slice(),
      line: { color, width: 2.2, dash },
      hovertemplate: `%{y:.2f} %<extra>${name}</extra>`,
    });
    const data = [
      line("train", train, p.train, "solid"),
      line("test", test, p.test, "dash"),
    ];
    const layout = baseLayout(p, { xTitle: "epoch", yTitle: "accuracy" });
    layout.uirevision = this.revision;
    layout.hovermode = "x unified";
    layout.xaxis.rangemode = "tozero";
    Object.assign(layout.yaxis, { ticksuffix: " %", autorangeoptions: { maxallowed: 100 } });
    return { data, layout };
  }
}
