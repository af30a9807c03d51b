namespace Ws4Net.Soak;

/// <summary>
/// The trend test of one sampled series: a Theil-Sen line (the median of the slopes between every pair of
/// samples, robust to the outliers a shared machine produces) fitted over the second half of the run, and
/// the growth it implies over that half (slope × its duration) compared with a tolerance of
/// <c>max(absolute, relative × median of the half)</c>. The least-squares slope is reported beside it.
/// </summary>
/// <param name="Name">Series name (CSV column).</param>
/// <param name="Unit">Unit of the values.</param>
/// <param name="Slope">Theil-Sen slope, units per minute.</param>
/// <param name="LeastSquaresSlope">Ordinary least-squares slope, units per minute.</param>
/// <param name="Intercept">Theil-Sen intercept (value at t = 0 s of the run).</param>
/// <param name="Growth">Slope × duration of the second half, in units.</param>
/// <param name="Tolerance">The largest growth accepted, in units.</param>
/// <param name="First">Mean of the first 3 samples of the run.</param>
/// <param name="Last">Mean of the last 3 samples.</param>
/// <param name="FitStart">Start of the fitted window, seconds.</param>
/// <param name="FitEnd">End of the fitted window, seconds.</param>
internal sealed record Trend(string Name, string Unit, double Slope, double LeastSquaresSlope, double Intercept, double Growth, double Tolerance, double First, double Last, double FitStart, double FitEnd)
{
    /// <summary>Gets whether the series trends upward beyond its tolerance.</summary>
    public bool Rising => Growth > Tolerance;

    /// <summary>Fits a series.</summary>
    /// <param name="name">Series name.</param>
    /// <param name="unit">Unit.</param>
    /// <param name="times">Sample times, seconds since the start.</param>
    /// <param name="values">Sample values (negative values, unreadable samples, are left out).</param>
    /// <param name="absoluteTolerance">Growth always accepted over the fitted half, in units.</param>
    /// <param name="relativeTolerance">Growth accepted as a fraction of the half's median.</param>
    /// <returns>The fit.</returns>
    public static Trend Fit(string name, string unit, IReadOnlyList<double> times, IReadOnlyList<double> values, double absoluteTolerance, double relativeTolerance)
    {
        var all = new List<(double T, double V)>();
        for (int i = 0; i < times.Count; i++)
        {
            if (values[i] >= 0)
            {
                all.Add((times[i], values[i]));
            }
        }

        if (all.Count < 3)
        {
            return new Trend(name, unit, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, 0, 0);
        }

        double end = all[^1].T;
        double middle = end / 2;
        List<(double T, double V)> half = all.Where(p => p.T >= middle).ToList();
        if (half.Count < 3)
        {
            half = all.TakeLast(3).ToList();
        }

        var slopes = new List<double>();
        for (int i = 0; i < half.Count; i++)
        {
            for (int j = i + 1; j < half.Count; j++)
            {
                if (half[j].T > half[i].T)
                {
                    slopes.Add((half[j].V - half[i].V) / (half[j].T - half[i].T));
                }
            }
        }

        double slope = Median(slopes);
        double intercept = Median(half.Select(p => p.V - (slope * p.T)).ToList());
        double meanT = half.Average(p => p.T);
        double meanV = half.Average(p => p.V);
        double sxx = half.Sum(p => (p.T - meanT) * (p.T - meanT));
        double sxy = half.Sum(p => (p.T - meanT) * (p.V - meanV));
        double ls = sxx > 0 ? sxy / sxx : 0;
        double duration = half[^1].T - half[0].T;
        double median = Median(half.Select(p => p.V).ToList());
        double tolerance = Math.Max(absoluteTolerance, relativeTolerance * median);
        return new Trend(
            name,
            unit,
            slope * 60,
            ls * 60,
            intercept,
            slope * duration,
            tolerance,
            all.Take(3).Average(p => p.V),
            all.TakeLast(3).Average(p => p.V),
            half[0].T,
            half[^1].T);
    }

    private static double Median(List<double> values)
    {
        if (values.Count == 0)
        {
            return 0;
        }

        values.Sort();
        int n = values.Count;
        return n % 2 == 1 ? values[n / 2] : (values[(n / 2) - 1] + values[n / 2]) / 2;
    }
}
