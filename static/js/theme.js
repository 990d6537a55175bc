// Colours and shared Plotly layout, following the system light/dark setting.
// Okabe-Ito for lines (colour-blind safe), viridis/cividis for heatmaps.

export const OKABE_ITO = {
  black: "#000000", orange: "#E69F00", skyBlue: "#56B4E9", green: "#009E73",
  yellow: "#F0E442", blue: "#0072B2", vermillion: "#D55E00", purple: "#CC79A7",
};

/**
 * Class colours for decision regions and labelled points, in order of class index: Okabe-Ito,
 * ordered so the first two (blue, orange) and three (+ green) stay distinct under every common
 * colour-vision deficiency. Class k also gets its own marker symbol, so colour is never the only cue.
 */
// Ten, so digits' classes 0 and 8 do not share one (Okabe-Ito, then Tol's wine and teal).
const CLASS_COLOURS_LIGHT = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9",
  "#F0E442", "#000000", "#882255", "#44AA99"];
const CLASS_COLOURS_DARK = ["#56B4E9", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#0072B2",
  "#F0E442", "#FFFFFF", "#CC6677", "#44AA99"];

const DARK = "(prefers-color-scheme: dark)";
// Two lists on purpose: Chromium updates a MediaQueryList's remembered state whenever its
// `matches` is read, and then fires no "change" for it. `palette()` reads `darkQuery` while
// drawing, which could swallow a switch made between two frames; `changeQuery` is only listened to.
const darkQuery = window.matchMedia(DARK);
const changeQuery = window.matchMedia(DARK);

/** The palette for the current colour scheme. */
export function palette() {
  const dark = darkQuery.matches;
  const css = getComputedStyle(document.documentElement);
  const v = (name) => css.getPropertyValue(name).trim();
  return {
    dark,
    fg: v("--fg") || (dark ? "#e4e9ef" : "#1b2430"),
    muted: v("--muted") || "#5b6776",
    panel: v("--panel") || (dark ? "#171e27" : "#ffffff"),
    grid: dark ? "rgba(255,255,255,0.09)" : "rgba(0,0,0,0.08)",
    zero: dark ? "rgba(255,255,255,0.25)" : "rgba(0,0,0,0.25)",
    train: dark ? OKABE_ITO.skyBlue : OKABE_ITO.blue,
    test: dark ? OKABE_ITO.orange : OKABE_ITO.vermillion,
    target: dark ? "#c9d1db" : "#3b4552",
    prediction: dark ? OKABE_ITO.orange : OKABE_ITO.vermillion,
    trainPoints: dark ? OKABE_ITO.skyBlue : OKABE_ITO.blue,
    testPoints: OKABE_ITO.green,
    best: OKABE_ITO.green,
    // the overfitting gap on the loss chart: the test colour, faint
    overfitFill: dark ? "rgba(230, 159, 0, 0.2)" : "rgba(213, 94, 0, 0.14)",
    positive: dark ? OKABE_ITO.skyBlue : OKABE_ITO.blue,
    negative: dark ? OKABE_ITO.orange : OKABE_ITO.vermillion,
    classes: dark ? CLASS_COLOURS_DARK : CLASS_COLOURS_LIGHT,
  };
}

/** Calls fn() whenever the system switches between light and dark. */
export function onThemeChange(fn) {
  changeQuery.addEventListener("change", fn);
}

function axis(p, title) {
  return {
    title: { text: title, standoff: 6 },
    gridcolor: p.grid, zerolinecolor: p.zero, linecolor: p.grid,
    color: p.fg, automargin: false,
  };
}

/** Base layout for a 2-D Plotly chart with axis titles. */
export function baseLayout(p, { xTitle = "", yTitle = "" } = {}) {
  return {
    paper_bgcolor: "rgba(0,0,0,0)",
    plot_bgcolor: "rgba(0,0,0,0)",
    font: { family: "system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif", size: 12, color: p.fg },
    margin: { l: 58, r: 12, t: 28, b: 42 },
    xaxis: axis(p, xTitle),
    yaxis: axis(p, yTitle),
    legend: { orientation: "h", x: 0, y: 1.02, yanchor: "bottom", font: { size: 11.5 },
      bgcolor: "rgba(0,0,0,0)" },
    hoverlabel: { bgcolor: p.panel, bordercolor: p.muted, font: { color: p.fg } },
    modebar: { bgcolor: "rgba(0,0,0,0)", color: p.muted, activecolor: p.fg },
  };
}

/** Axis settings for a 3-D scene. */
export function sceneAxis(p, title) {
  return {
    title: { text: title }, color: p.fg, gridcolor: p.grid, zerolinecolor: p.zero,
    backgroundcolor: "rgba(0,0,0,0)", showbackground: false, nticks: 5,
    tickfont: { size: 10 },
  };
}

/**
 * Plotly config shared by every chart: no logo, no cloud links, responsive. WebGL plots (the 3-D
 * surfaces) render at the screen's pixel ratio: plotly's default is 2 whatever the screen, four
 * times the pixels on an ordinary one, and each surface redraw pays for them (in software WebGL
 * most of all); a high-DPI screen keeps its sharpness.
 */
export const PLOT_CONFIG = {
  displaylogo: false, responsive: true, showLink: false, showSendToCloud: false,
  modeBarButtonsToRemove: ["sendDataToCloud", "lasso2d", "select2d"],
  plotGlPixelRatio: Math.min(4, Math.max(1, window.devicePixelRatio || 1)),
};
