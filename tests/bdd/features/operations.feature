Feature: Watching the service while it runs
  As the operator of the service
  I want its readiness, its metrics and the id of each request
  So that my load balancer, my Prometheus and my log search see what it does

  Background:
    Given I am signed in as an analyst of "acme"
    And "acme" has these measurements:
      | channel | date       | conversions |
      | tv      | 2021-01-04 | 420         |
      | radio   | 2021-01-04 | 200         |

  Scenario: A migrated service with its database is ready
    When my load balancer asks whether the service is ready
    Then it is told "ready" with status 200

  Scenario: Metrics count the answers by endpoint and status
    Given the metrics token is "a-long-random-metrics-token"
    And my Prometheus has scraped the metrics with the token "a-long-random-metrics-token"
    When I ask for the channel sales percentages
    And my Prometheus scrapes the metrics with the token "a-long-random-metrics-token"
    Then the metrics count one more answer of "/api/marketing/stats/channel-sales-percentages/" with status 200

  Scenario: Metrics are refused without the token
    Given the metrics token is "a-long-random-metrics-token"
    When my Prometheus scrapes the metrics with the token "a-guess"
    Then the answer has status 401

  Scenario: A production service without a metrics token does not serve them
    Given the service runs in production without a metrics token
    When my Prometheus scrapes the metrics with the token "a-guess"
    Then the answer has status 404

  Scenario: My balancer's request id comes back with the answer
    When I ask for the channel sales percentages with the request id "lb-4711"
    Then the answer carries the request id "lb-4711"

  Scenario: A request without an id gets one
    When I ask for the channel sales percentages
    Then the answer carries a request id of 32 hexadecimal digits
