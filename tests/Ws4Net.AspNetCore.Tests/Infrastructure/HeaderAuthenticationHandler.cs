using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Ws4Net.AspNetCore.Tests.Infrastructure;

/// <summary>Test authentication: the user is named by the <c>X-User</c> header (or the <c>user</c> cookie), with a <c>role</c> claim from <c>X-Role</c>.</summary>
public sealed class HeaderAuthenticationHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "TestHeader";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        string? name = Request.Headers["X-User"].FirstOrDefault() ?? Request.Cookies["user"];
        if (string.IsNullOrEmpty(name))
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        var claims = new List<Claim> { new(ClaimTypes.Name, name) };
        if (Request.Headers["X-Role"].FirstOrDefault() is { Length: > 0 } role)
        {
            claims.Add(new Claim("role", role));
        }

        var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName));
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName)));
    }
}
