namespace Ws4Net.Cli.Bench;

/// <summary>A load run cannot start or continue (connection refused, handshake rejected); the message is for the user.</summary>
internal sealed class BenchException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What went wrong, for the user.</param>
    /// <param name="inner">The cause, or <see langword="null"/>.</param>
    public BenchException(string message, Exception? inner = null)
        : base(message, inner)
    {
    }
}
