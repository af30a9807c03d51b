using System.Globalization;

namespace Ws4Net.Server;

/// <summary>
/// A parsed route template in the ASP.NET Core syntax subset the standalone server supports: literal segments
/// (compared ASCII case-insensitively), parameters <c>{name}</c>, constrained parameters <c>{name:int}</c> (several
/// constraints chain: <c>{id:int:min(1)}</c>), an optional last parameter <c>{name?}</c> and a catch-all last
/// parameter <c>{*rest}</c>. Constraints: <c>int</c>, <c>long</c>, <c>bool</c>, <c>guid</c>, <c>alpha</c>,
/// <c>min(n)</c>, <c>max(n)</c>, <c>range(a,b)</c>, <c>length(n)</c>, <c>length(a,b)</c>, <c>minlength(n)</c>,
/// <c>maxlength(n)</c>. Values are percent-decoded per segment. Immutable and thread-safe.
/// </summary>
internal sealed class WebSocketRouteTemplate
{
    private readonly Segment[] _segments;

    private WebSocketRouteTemplate(string text, Segment[] segments)
    {
        Text = text;
        _segments = segments;
        HasParameters = segments.Any(s => s.Parameter is not null);
    }

    public string Text { get; }

    public bool HasParameters { get; }

    /// <summary>Parses a template; throws <see cref="ArgumentException"/> naming what is wrong.</summary>
    public static WebSocketRouteTemplate Parse(string template)
    {
        string[] parts = template.TrimStart('/').Split('/');
        var segments = new List<Segment>(parts.Length);
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (int i = 0; i < parts.Length; i++)
        {
            string part = parts[i];
            bool last = i == parts.Length - 1;
            if (part.Length > 1 && part[0] == '{' && part[^1] == '}')
            {
                Segment parameter = ParseParameter(template, part[1..^1], last);
                if (!names.Add(parameter.Parameter!))
                {
                    throw new ArgumentException($"Route template '{template}' names '{parameter.Parameter}' twice.", nameof(template));
                }

                segments.Add(parameter);
            }
            else if (part.Contains('{', StringComparison.Ordinal) || part.Contains('}', StringComparison.Ordinal))
            {
                throw new ArgumentException($"Route template '{template}': a parameter must be a whole segment ('{part}').", nameof(template));
            }
            else if (part.Length == 0 && !(last && parts.Length == 1))
            {
                throw new ArgumentException($"Route template '{template}' has an empty segment.", nameof(template));
            }
            else
            {
                segments.Add(new Segment(part, null, [], false, false));
            }
        }

        return new WebSocketRouteTemplate(template, [.. segments]);
    }

    /// <summary>Matches a raw request path (percent-encoding as sent); on success, the parameter values.</summary>
    public bool TryMatch(string rawPath, out Dictionary<string, string?> values)
    {
        values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        string[] parts = rawPath.TrimStart('/').Split('/');
        if (parts.Length == 1 && parts[0].Length == 0)
        {
            parts = [];
        }

        for (int i = 0; i < _segments.Length; i++)
        {
            Segment segment = _segments[i];
            if (segment.CatchAll)
            {
                values[segment.Parameter!] = i < parts.Length ? Uri.UnescapeDataString(string.Join('/', parts[i..])) : null;
                return true;
            }

            if (i >= parts.Length)
            {
                if (segment.Optional)
                {
                    values[segment.Parameter!] = null;
                    continue;
                }

                return parts.Length == 0 && _segments.Length == 1 && segment.Literal.Length == 0;
            }

            string value = Uri.UnescapeDataString(parts[i]);
            if (segment.Parameter is null)
            {
                if (!string.Equals(segment.Literal, value, StringComparison.OrdinalIgnoreCase))
                {
                    return false;
                }

                continue;
            }

            if (value.Length == 0 || !segment.Constraints.All(c => c(value)))
            {
                return false;
            }

            values[segment.Parameter] = value;
        }

        return parts.Length <= _segments.Length;
    }

    private static Segment ParseParameter(string template, string body, bool last)
    {
        bool catchAll = body.StartsWith('*');
        if (catchAll)
        {
            body = body.TrimStart('*');
        }

        bool optional = body.EndsWith('?');
        if (optional)
        {
            body = body[..^1];
        }

        string[] pieces = SplitConstraints(body);
        string name = pieces[0];
        if (name.Length == 0 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_'))
        {
            throw new ArgumentException($"Route template '{template}': '{name}' is not a valid parameter name.", nameof(template));
        }

        if ((catchAll || optional) && !last)
        {
            throw new ArgumentException($"Route template '{template}': only the last parameter may be optional or a catch-all.", nameof(template));
        }

        var constraints = new List<Func<string, bool>>();
        foreach (string constraint in pieces.Skip(1))
        {
            constraints.Add(ParseConstraint(template, constraint));
        }

        return new Segment(string.Empty, name, [.. constraints], optional, catchAll);
    }

    // Splits "name:c1:c2(a,b)" on the colons that are outside parentheses.
    private static string[] SplitConstraints(string body)
    {
        var result = new List<string>();
        int depth = 0, start = 0;
        for (int i = 0; i < body.Length; i++)
        {
            depth += body[i] switch { '(' => 1, ')' => -1, _ => 0 };
            if (body[i] == ':' && depth == 0)
            {
                result.Add(body[start..i]);
                start = i + 1;
            }
        }

        result.Add(body[start..]);
        return [.. result];
    }

    private static Func<string, bool> ParseConstraint(string template, string constraint)
    {
        int open = constraint.IndexOf('(', StringComparison.Ordinal);
        string name = open < 0 ? constraint : constraint[..open];
        long[] args = open < 0 || !constraint.EndsWith(')')
            ? []
            : constraint[(open + 1)..^1].Split(',').Select(a => long.TryParse(a.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out long n)
                ? n
                : throw new ArgumentException($"Route template '{template}': '{constraint}' needs integer arguments.", nameof(template))).ToArray();
        Func<string, bool>? check = (name.ToLowerInvariant(), args.Length) switch
        {
            ("int", 0) => v => int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out _),
            ("long", 0) => v => long.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out _),
            ("bool", 0) => v => bool.TryParse(v, out _),
            ("guid", 0) => v => Guid.TryParse(v, out _),
            ("alpha", 0) => v => v.All(char.IsAsciiLetter),
            ("min", 1) => v => long.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out long n) && n >= args[0],
            ("max", 1) => v => long.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out long n) && n <= args[0],
            ("range", 2) => v => long.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out long n) && n >= args[0] && n <= args[1],
            ("length", 1) => v => v.Length == args[0],
            ("length", 2) => v => v.Length >= args[0] && v.Length <= args[1],
            ("minlength", 1) => v => v.Length >= args[0],
            ("maxlength", 1) => v => v.Length <= args[0],
            _ => null,
        };
        return check ?? throw new ArgumentException($"Route template '{template}': unknown or malformed constraint '{constraint}'.", nameof(template));
    }

    private sealed record Segment(string Literal, string? Parameter, Func<string, bool>[] Constraints, bool Optional, bool CatchAll);
}
