using System.Net;
using Microsoft.Extensions.Options;

namespace Ws4Net.Hosting;

/// <summary>
/// Checks <see cref="Ws4NetOptions"/> when the host starts (registered by
/// <see cref="Ws4NetServiceCollectionExtensions.AddWs4Net(Microsoft.Extensions.DependencyInjection.IServiceCollection, Action{Ws4NetOptions}?)"/>
/// with <c>ValidateOnStart</c>). Thread-safe (stateless).
/// </summary>
public sealed class Ws4NetOptionsValidator : IValidateOptions<Ws4NetOptions>
{
    /// <summary>Validates one named instance.</summary>
    /// <param name="name">The options name.</param>
    /// <param name="options">The values.</param>
    /// <returns>Success, or a failure listing every invalid setting.</returns>
    public ValidateOptionsResult Validate(string? name, Ws4NetOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        if (options.UnixSocketPath is null && !IPAddress.TryParse(options.Address, out _))
        {
            errors.Add($"Ws4Net:Address must be an IP address (got '{options.Address}').");
        }

        if (options.Port is < 0 or > 65535)
        {
            errors.Add($"Ws4Net:Port must be 0-65535 (got {options.Port}).");
        }

        Positive(errors, nameof(options.HandshakeTimeout), options.HandshakeTimeout);
        Positive(errors, nameof(options.CloseTimeout), options.CloseTimeout);
        NotNegative(errors, nameof(options.ShutdownTimeout), options.ShutdownTimeout);
        NotNegative(errors, nameof(options.KeepAliveInterval), options.KeepAliveInterval);
        NotNegative(errors, nameof(options.IdleTimeout), options.IdleTimeout);
        Positive(errors, nameof(options.KeepAliveTimeout), options.KeepAliveTimeout);

        if (options.SendTimeout != Timeout.InfiniteTimeSpan)
        {
            Positive(errors, nameof(options.SendTimeout), options.SendTimeout);
        }

        if (options.MaxMessageSize < 1)
        {
            errors.Add($"Ws4Net:MaxMessageSize must be at least 1 byte (got {options.MaxMessageSize}).");
        }

        if (options.SendHighWaterMark < 0)
        {
            errors.Add($"Ws4Net:SendHighWaterMark must not be negative (got {options.SendHighWaterMark}).");
        }

        if (options.MaxBufferedAmount < 4096)
        {
            errors.Add($"Ws4Net:MaxBufferedAmount must be at least 4096 bytes (got {options.MaxBufferedAmount}).");
        }

        if (options.MaxBufferedAmount < options.SendHighWaterMark)
        {
            errors.Add($"Ws4Net:MaxBufferedAmount ({options.MaxBufferedAmount}) must be at least SendHighWaterMark ({options.SendHighWaterMark}).");
        }

        if (!Enum.IsDefined(options.BackpressurePolicy))
        {
            errors.Add($"Ws4Net:BackpressurePolicy is not a known policy (got {options.BackpressurePolicy}).");
        }

        foreach (string error in Ws4NetOptionsMapper.ToManagerOptions(options).Validate())
        {
            errors.Add("Ws4Net:" + error);
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static void Positive(List<string> errors, string name, TimeSpan value)
    {
        if (value <= TimeSpan.Zero)
        {
            errors.Add($"Ws4Net:{name} must be positive (got {value}).");
        }
    }

    private static void NotNegative(List<string> errors, string name, TimeSpan value)
    {
        if (value < TimeSpan.Zero)
        {
            errors.Add($"Ws4Net:{name} must not be negative (got {value}).");
        }
    }
}
