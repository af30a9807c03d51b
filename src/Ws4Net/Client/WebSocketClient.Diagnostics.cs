using System.Diagnostics;
using Ws4Net.Diagnostics;
using Ws4Net.Protocol.Handshake;

namespace Ws4Net.Client;

public static partial class WebSocketClient
{
    /// <summary>One connection attempt inside the client handshake activity; a failure is counted and logged (event 44) before it propagates.</summary>
    private static async Task<(WebSocketConnection? Connection, HttpResponseHead? Redirect)> ConnectOnceObservedAsync(ClientHandshake handshake, byte[] request, WebSocketClientOptions options, CancellationToken cancellationToken)
    {
        using Activity? activity = HandshakeDiagnostics.StartClient(handshake.Uri);
        try
        {
            (WebSocketConnection? connection, HttpResponseHead? redirect) = await ConnectOnceAsync(handshake, request, options, cancellationToken).ConfigureAwait(false);
            HandshakeDiagnostics.ClientCompleted(activity, connection, redirect?.StatusCode ?? 0);
            return (connection, redirect);
        }
        catch (WebSocketConnectException ex)
        {
            HandshakeDiagnostics.ClientFailed(options.Logger, activity, ex);
            throw;
        }
        catch (OperationCanceledException)
        {
            HandshakeDiagnostics.ClientCanceled(activity);
            throw;
        }
    }
}
