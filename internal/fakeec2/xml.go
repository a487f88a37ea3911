package fakeec2

import "encoding/xml"

// The shapes below follow EC2's responses (API version 2016-11-15) as
// recorded from DescribeVpcEndpoints and DescribeNetworkInterfaces.

const ns = "http://ec2.amazonaws.com/doc/2016-11-15/"

type item struct {
	Value string `xml:",chardata"`
}

func items(list []string) []item {
	out := make([]item, len(list))
	for i, v := range list {
		out[i] = item{v}
	}
	return out
}

type endpointsResponse struct {
	XMLName   xml.Name      `xml:"DescribeVpcEndpointsResponse"`
	NS        string        `xml:"xmlns,attr"`
	RequestID string        `xml:"requestId"`
	Endpoints []endpointXML `xml:"vpcEndpointSet>item"`
}

type endpointXML struct {
	ID          string `xml:"vpcEndpointId"`
	Type        string `xml:"vpcEndpointType"`
	VPCID       string `xml:"vpcId"`
	ServiceName string `xml:"serviceName"`
	// ServiceRegion is omitted when empty, as EC2 does for endpoints of
	// the VPC's own region.
	ServiceRegion string        `xml:"serviceRegion,omitempty"`
	State         string        `xml:"state"`
	PrivateDNS    bool          `xml:"privateDnsEnabled"`
	Subnets       []item        `xml:"subnetIdSet>item"`
	Interfaces    []item        `xml:"networkInterfaceIdSet>item"`
	DNSEntries    []dnsEntryXML `xml:"dnsEntrySet>item"`
	Owner         string        `xml:"ownerId"`
	Policy        string        `xml:"policyDocument"`
}

type dnsEntryXML struct {
	Name string `xml:"dnsName"`
	Zone string `xml:"hostedZoneId"`
}

type interfacesResponse struct {
	XMLName    xml.Name       `xml:"DescribeNetworkInterfacesResponse"`
	NS         string         `xml:"xmlns,attr"`
	RequestID  string         `xml:"requestId"`
	Interfaces []interfaceXML `xml:"networkInterfaceSet>item"`
}

type interfaceXML struct {
	ID      string         `xml:"networkInterfaceId"`
	Subnet  string         `xml:"subnetId"`
	Zone    string         `xml:"availabilityZone"`
	ZoneID  string         `xml:"availabilityZoneId"`
	Type    string         `xml:"interfaceType"`
	Primary string         `xml:"privateIpAddress"`
	Private []privateIPXML `xml:"privateIpAddressesSet>item"`
	IPv6    []ipv6XML      `xml:"ipv6AddressesSet>item"`
}

type privateIPXML struct {
	Address string `xml:"privateIpAddress"`
	Primary bool   `xml:"primary"`
}

type ipv6XML struct {
	Address string `xml:"ipv6Address"`
}

type errorResponse struct {
	XMLName   xml.Name   `xml:"Response"`
	Errors    []errorXML `xml:"Errors>Error"`
	RequestID string     `xml:"RequestID"`
}

type errorXML struct {
	Code    string `xml:"Code"`
	Message string `xml:"Message"`
}
