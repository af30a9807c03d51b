using OxyPlot;
using OxyPlot.Axes;
using OxyPlot.Legends;
using OxyPlot.Series;

namespace Ws4Net.Soak;

/// <summary>Draws the samples as one SVG with OxyPlot: four stacked panels (RSS, descriptors, managed heap, echo p99) sharing the time axis, each with its fitted second-half trend lines dashed ("fit").</summary>
internal static class Plot
{
    /// <summary>One series to draw.</summary>
    /// <param name="Panel">Panel index, 0 (top) to 3.</param>
    /// <param name="Label">Legend label.</param>
    /// <param name="Times">Sample times, seconds.</param>
    /// <param name="Values">Values in the panel's unit (negative values are skipped).</param>
    /// <param name="Fit">The fitted trend, drawn over its window.</param>
    internal sealed record Line(int Panel, string Label, IReadOnlyList<double> Times, IReadOnlyList<double> Values, Trend Fit);

    /// <summary>Writes the plot.</summary>
    /// <param name="path">The SVG file to write.</param>
    /// <param name="title">Plot title.</param>
    /// <param name="panels">Panel titles (with units), top to bottom.</param>
    /// <param name="lines">Series.</param>
    public static void WriteSvg(string path, string title, IReadOnlyList<string> panels, IEnumerable<Line> lines)
    {
        var model = new PlotModel { Title = title, Background = OxyColors.White };
        model.Legends.Add(new Legend { LegendPosition = LegendPosition.RightTop, LegendPlacement = LegendPlacement.Outside });
        model.Axes.Add(new LinearAxis { Position = AxisPosition.Bottom, Title = "time (min)", MajorGridlineStyle = LineStyle.Dot });
        double gap = 0.06;
        double height = (1.0 - (gap * (panels.Count - 1))) / panels.Count;
        for (int i = 0; i < panels.Count; i++)
        {
            // Panel 0 at the top: OxyPlot positions run from the bottom (0) to the top (1).
            double start = 1.0 - ((i + 1) * height) - (i * gap);
            model.Axes.Add(new LinearAxis
            {
                Position = AxisPosition.Left,
                Key = $"p{i}",
                Title = panels[i],
                StartPosition = start,
                EndPosition = start + height,
                MajorGridlineStyle = LineStyle.Dot,
                AxislineStyle = LineStyle.Solid,
                MinimumPadding = 0.1,
                MaximumPadding = 0.1,
            });
        }

        foreach (Line line in lines)
        {
            // One colour per server; the legend lists each server once (top panel) and the fitted lines once.
            OxyColor color = line.Label == "ws" ? OxyColor.FromRgb(0x1f, 0x77, 0xb4) : OxyColor.FromRgb(0xff, 0x7f, 0x0e);
            var series = new LineSeries { Title = line.Panel == 0 ? line.Label : null, Color = color, YAxisKey = $"p{line.Panel}", MarkerType = MarkerType.Circle, MarkerSize = 1.5, MarkerFill = color };
            for (int i = 0; i < line.Times.Count; i++)
            {
                if (line.Values[i] >= 0)
                {
                    series.Points.Add(new DataPoint(line.Times[i] / 60, line.Values[i]));
                }
            }

            model.Series.Add(series);
            if (!double.IsNaN(line.Fit.Slope))
            {
                double perSecond = line.Fit.Slope / 60;
                var fit = new LineSeries { Title = line.Panel == 0 && line.Label == "ws" ? "fit" : null, YAxisKey = $"p{line.Panel}", LineStyle = LineStyle.Dash, Color = OxyColors.Black, StrokeThickness = 1 };
                fit.Points.Add(new DataPoint(line.Fit.FitStart / 60, line.Fit.Intercept + (perSecond * line.Fit.FitStart)));
                fit.Points.Add(new DataPoint(line.Fit.FitEnd / 60, line.Fit.Intercept + (perSecond * line.Fit.FitEnd)));
                model.Series.Add(fit);
            }
        }

        using FileStream file = File.Create(path);
        var exporter = new SvgExporter { Width = 1100, Height = 1000 };
        exporter.Export(model, file);
    }
}
