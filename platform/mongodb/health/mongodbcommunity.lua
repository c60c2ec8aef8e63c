-- Argo CD health check for mongodbcommunity.mongodb.com/MongoDBCommunity (MongoDB Controllers for Kubernetes).
-- Installed by bootstrap into argocd-cm under
--   resource.customizations.health.mongodbcommunity.mongodb.com_MongoDBCommunity
-- Argo CD runs it with gopher-lua (Lua 5.1): `obj` is the live object, the script returns {status, message}.
--
-- The status has phase Running / Pending / Failed but no observedGeneration, so "the operator has caught
-- up with the spec" is read from the members and version it reports.
--
-- Failed is Degraded, not Progressing: a sync waiting on a Progressing resource never ends, so a real
-- failure (bad version, missing password Secret) would hang the environment's sync forever; Degraded
-- fails the sync with the operator's message, and the Application's sync retry absorbs a transient one.

local hs = {}

local function as_number(v, default)
  if type(v) == "number" then
    return v
  end
  return default
end

if obj.metadata ~= nil and obj.metadata.deletionTimestamp ~= nil then
  hs.status = "Progressing"
  hs.message = "Being deleted"
  return hs
end

local status = obj.status
if status == nil or status.phase == nil or status.phase == "" then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to report a status"
  return hs
end

local message = status.message
if message == nil or message == "" then
  message = nil
end

if status.phase == "Failed" then
  hs.status = "Degraded"
  hs.message = message or "The operator reports the replica set as Failed"
  return hs
end

if status.phase == "Pending" then
  hs.status = "Progressing"
  hs.message = message or "The operator is reconciling the replica set"
  return hs
end

if status.phase == "Running" then
  local spec = obj.spec or {}
  local want = as_number(spec.members, 1)
  local have = as_number(status.currentMongoDBMembers, 0)
  if have ~= want then
    hs.status = "Progressing"
    hs.message = "Scaling the replica set: " .. have .. " of " .. want .. " members"
    return hs
  end
  local wantArbiters = as_number(spec.arbiters, 0)
  local haveArbiters = as_number(status.currentMongoDBArbiters, 0)
  if haveArbiters ~= wantArbiters then
    hs.status = "Progressing"
    hs.message = "Scaling the arbiters: " .. haveArbiters .. " of " .. wantArbiters
    return hs
  end
  if spec.version ~= nil and status.version ~= nil and status.version ~= spec.version then
    hs.status = "Progressing"
    hs.message = "Upgrading MongoDB from " .. status.version .. " to " .. spec.version
    return hs
  end
  hs.status = "Healthy"
  hs.message = "Replica set running with " .. have .. " members"
  return hs
end

hs.status = "Progressing"
hs.message = "Unknown phase " .. tostring(status.phase)
return hs
