global using Ws4Net.Protocol;
